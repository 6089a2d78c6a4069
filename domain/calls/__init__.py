"""Calls: the call record and its events, the queue, agents taking calls, callbacks, the survey, timelines."""
