"""What acts on a run while it goes: the fault schedule, drills and the harness's dependencies.

Owns the admin API client the schedule sets faults through, the fault-schedule thread, the drill
registry (the platform killed and restarted, a worker killed, the mailbox stopped, a dependency
cut), the relays a drill cuts, and the watch on the mailbox, Pushgateway and Prometheus.

Sits just below the composition root: it may import core, contracts, synthetic_users, scenarios,
checks and dashboards, and only ``anef_harness`` imports it. It must not import
``reference_platform`` or ``anef_harness``: it sees the embedded target and the load processes
through the protocols of ``drills.world``. It must not decide a verdict.
"""
