/**
 * `apiBaseUrl` for opencode. opencode talks to Anthropic through the
 * Anthropic SDK built into its binary; a provider `baseURL` in its config
 * moves that to another host. The SDK's base URL includes the API version
 * (`https://api.anthropic.com/v1`), while `apiBaseUrl` names the API root the
 * way `ANTHROPIC_BASE_URL` does, so `/v1` is appended.
 */
export function anthropicBaseUrl(apiBaseUrl: string): string {
  return `${apiBaseUrl.replace(/\/+$/, "")}/v1`;
}

/** The variable each launch sets to the provider's base URL; the planted config names it rather than the URL. */
export const BASE_URL_VAR = "OPTIO_ANTHROPIC_BASE_URL";

/**
 * The global opencode config that sends the `anthropic` provider to the
 * endpoint; its key comes from `ANTHROPIC_API_KEY` in `env` or from
 * `credentials`. The URL is read from `BASE_URL_VAR` (opencode substitutes
 * `{env:…}` in its config) because the config travels in snapshots: a resumed
 * task must reach the endpoint its own config names now, not the one the
 * first session had.
 */
export function endpointConfig(): Record<string, unknown> {
  return {
    $schema: "https://opencode.ai/config.json",
    provider: { anthropic: { options: { baseURL: `{env:${BASE_URL_VAR}}` } } },
  };
}

/** What a launch with `apiBaseUrl` adds to opencode's environment: the endpoint, and nothing else to reach. */
export function endpointEnv(apiBaseUrl: string): Record<string, string> {
  return { ...ENDPOINT_ENV, [BASE_URL_VAR]: anthropicBaseUrl(apiBaseUrl) };
}

/**
 * With an endpoint of its own, opencode runs on what its binary bundles and
 * reaches nothing but that endpoint: no models list from models.dev, and no
 * package installs (its config dir's `@opencode-ai/plugin` install goes
 * through npm, which in offline mode answers from the empty cache at once).
 */
export const ENDPOINT_ENV: Readonly<Record<string, string>> = {
  OPENCODE_DISABLE_MODELS_FETCH: "1",
  npm_config_offline: "true",
};
