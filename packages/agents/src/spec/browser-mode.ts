/**
 * What happens when the agent tries to open a browser:
 * - `ignore`: nothing is intercepted;
 * - `suppress`: opener commands are shimmed to do nothing;
 * - `redirect`: opener commands append a `BROWSER: <url>` line to optio.log,
 *   and the URL is handed to the task context.
 */
export type BrowserMode = "ignore" | "suppress" | "redirect";
