import { optioErrorClass } from "@optio/host";

/** The PostgreSQL server could not be reached or dropped the connection; nothing half-written is visible, and the store works again once the server is back. */
export class StateStoreUnavailableError extends optioErrorClass(
  "state_store_unavailable",
  "StateStoreUnavailableError",
) {}
/** The database schema is newer than this package knows, or a migration failed. */
export class StateStoreSchemaError extends optioErrorClass("state_store_schema", "StateStoreSchemaError") {}
