// How a deliverable reaches the dashboard in queue mode: the worker stores its text as a blob in the shared state
// store and reports the blob's id and the path as an `info` report, which travels with the task's other events.
const PREFIX = "deliverable stored as blob ";

/** The report's text for the blob `id` holding the deliverable at `path`. */
export function deliverableReport(id, path) {
  return `${PREFIX}${id}: ${path}`;
}

/** `{ id, path }` from such a report, or null for any other. */
export function parseDeliverableReport(message) {
  if (!message.startsWith(PREFIX)) return null;
  const rest = message.slice(PREFIX.length);
  const colon = rest.indexOf(": ");
  return colon > 0 ? { id: rest.slice(0, colon), path: rest.slice(colon + 2) } : null;
}
