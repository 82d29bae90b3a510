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

/** The global opencode config that sends the `anthropic` provider to `apiBaseUrl`; its key comes from `ANTHROPIC_API_KEY` in `env` or from `credentials`. */
export function endpointConfig(apiBaseUrl: string): Record<string, unknown> {
  return { $schema: "https://opencode.ai/config.json", provider: { anthropic: { options: { baseURL: anthropicBaseUrl(apiBaseUrl) } } } };
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
