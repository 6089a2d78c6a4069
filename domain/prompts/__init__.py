"""Voice prompts recorded by the office: the studio's takes, their conversion for the phone, coverage."""
