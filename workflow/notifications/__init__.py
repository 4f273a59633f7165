"""Durable notifications (transactional outbox).

- `outbox`: the rows written with a change, and the idempotent insert the sweep uses.
- `sweep`: deadline reminders computed from the stored deadlines.
- `fanout`: one delivery per message and matching subscription.
- `worker`: claims due deliveries under a lease, delivers outside any transaction,
  records the outcome (at-least-once; each payload carries its idempotency id).
- `channels`, `webhook`, `email`: how a delivery is sent.
- `subscriptions`, `deliveries`: the use cases behind the API.
"""
