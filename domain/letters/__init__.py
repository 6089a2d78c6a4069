"""Letters: finding one by (number, date), the limits on guessing, a letter's record for the console."""
