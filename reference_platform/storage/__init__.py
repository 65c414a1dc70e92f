"""Storage of the platform: one database per side (front, back) plus the platform's own
(ledger, clock, active faults), and the content-addressed blob store for uploads."""
