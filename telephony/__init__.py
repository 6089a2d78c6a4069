"""Talking to Twilio: webhook signatures and the REST client."""
