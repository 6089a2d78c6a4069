"""Letters: finding one by (number, date) under the limits on guessing, a letter's record for the
console, and importing them."""
