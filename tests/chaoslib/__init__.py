"""Support package of tests/chaos, the randomized fault campaign (docs/CHAOS.md).

checks.py   the invariants as pure functions over recorded data (unit-tested, no root)
model.py    what the campaign did to the pair (cuts, loss, faults, cables) and when
clients.py  the load: writer, SSE follower, power observer, background tools
campaign.py the campaign itself: steps, episodes, settles, summary
"""
