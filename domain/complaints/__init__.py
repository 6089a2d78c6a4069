"""Citizens' complaints about a government service or employee.

- codes.py: the complaint code (digits, random, a check digit)
- sla.py: due times in working hours, paused while the citizen is asked
- workflow.py: the statuses and who may move a complaint from one to another
- filing.py / handling.py: the use cases (a citizen or an agent files; officers handle)
- notices.py: what the citizen is told, by SMS and e-mail, through the outboxes
"""
