"""Domain functions shared by the IVR, the console, the API and the commands.

Transactions: a use case (one function per thing a person does: `look_up_letter`,
`take_call`, `place_callback`, ...) owns its transaction: it commits or rolls back, then
returns what the view renders. The helpers it calls add, change and flush; they never
commit. A voice webhook step is one transaction that the IVR's `voice_step` commits with
the step's CallEvent (so a replayed request changes nothing): a use case it calls gets
commit=False.
"""
