"""Letters: finding one under the anti-guessing policy, its history, and importing them."""
