"""Console users and API clients: accounts, passwords, bearer tokens."""
