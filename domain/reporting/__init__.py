"""Supervisors' reports: KPIs, the call log and its export, the wallboard."""
