-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d/).
-- One database per service: each service's kernel tables (outbox, processed_events,
-- dead_letters) have the same names, so services never share a database.
-- The owner is POSTGRES_USER (the user running this script).
CREATE DATABASE plans;
CREATE DATABASE dossiers;
CREATE DATABASE scoring;
CREATE DATABASE notifications;
