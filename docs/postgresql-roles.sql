-- Least-privilege roles for a PostgreSQL deployment of the case review engine.
-- Run as a superuser once per database, after `casereview migrate` has created the
-- schema as the OWNER role. The application then connects as casereview_app.
--
--   casereview_owner : owns the schema; used only by `casereview migrate`
--   casereview_app   : the running application; cannot change or delete audit or
--                      timeline rows, cannot alter the schema
--
-- Replace the passwords (or use your secret store / certificate authentication).

CREATE ROLE casereview_owner LOGIN PASSWORD 'change-me-owner';
CREATE ROLE casereview_app LOGIN PASSWORD 'change-me-app';
-- (migrate as casereview_owner so that it owns every table, then:)

REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO casereview_app;

-- Ordinary tables: read and write.
GRANT SELECT, INSERT, UPDATE, DELETE ON
    "case", case_deadline, case_assignment, case_link, partnership, app_user, membership,
    api_token, feed_token, audit_chain_head, idempotency_record, recommendation, action,
    document, theme_tag, web_session, user_password, password_invite, sign_in_failures
TO casereview_app;

-- Notifications: the outbox, subscriptions and deliveries (docs/notifications.md).
GRANT SELECT, INSERT, UPDATE, DELETE ON outbox_message, subscription, delivery TO casereview_app;

-- Per-partnership case counts for list and dashboard ETags: written only by the
-- triggers of migration 0007 (which run as the owner), so the application just reads.
GRANT SELECT ON case_tally TO casereview_app;
-- Cases per (partnership, stage) for the dashboard: kept by the triggers of migration
-- 0009 (as is case.next_due_date), so the application just reads it too.
GRANT SELECT ON case_stage_tally TO casereview_app;

-- Append-only tables: the application may add and read rows, never change or remove
-- them (the triggers installed by the migrations refuse it too, even for the owner).
GRANT SELECT, INSERT ON
    case_event, deadline_adjustment, audit_record, action_update, document_version
TO casereview_app;
REVOKE UPDATE, DELETE, TRUNCATE ON
    case_event, deadline_adjustment, audit_record, action_update, document_version
FROM casereview_app;

-- Identity columns of the append-only tables.
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO casereview_app;

-- The application only reads the migration version (readiness check).
GRANT SELECT ON alembic_version TO casereview_app;

-- Production settings worth setting for the application role:
ALTER ROLE casereview_app SET statement_timeout = '10s';
ALTER ROLE casereview_app SET idle_in_transaction_session_timeout = '30s';
ALTER ROLE casereview_app SET lock_timeout = '5s';
-- synchronous_commit stays at its default (on): an acknowledged decision must survive a crash.
