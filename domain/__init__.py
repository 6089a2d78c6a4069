"""Domain functions shared by the IVR, the console, the API and the commands, grouped by subject.

- letters/: finding a letter by (number, date) under the limits on guessing, a letter's record
  for the console, importing letters
- calls/: the call record and its events, the agents' queue, agents taking calls, callbacks, survey, timelines
- reporting/: supervisors' reports: KPIs, the call log and its export, the wallboard
- staff/: console users, their passwords, the records office's API tokens
- db/: idempotent inserts and advisory locks, SQL time arithmetic, keyset pages, where reports read from
- audit.py: the audit trail, written and read
- sms.py: text messages: bodies, the outbox and its rules, the safety rule, subscriptions
- clock.py: now in UTC, local time in Baghdad, the opening hours
- languages.py: the three languages and their Babel locales
- phones.py: phone numbers: parsing, formats, mobiles
- live.py: live updates to open consoles (Redis pub/sub or in-process)

Transactions: a use case (one function per thing a person does: `look_up_letter`,
`take_call`, `place_callback`, ...) owns its transaction: it commits or rolls back, then
returns what the view renders. The helpers it calls add, change and flush; they never
commit. A voice webhook step is one transaction that the IVR's `voice_step` commits with
the step's CallEvent (so a replayed request changes nothing): a use case it calls gets
commit=False.
"""
