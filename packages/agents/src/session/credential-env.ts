/**
 * Inherited variables that carry credentials. One of them in the agent's
 * environment silently outranks the login planted in its HOME, so they are
 * removed unless the task's config sets them on purpose.
 */
export const CREDENTIAL_ENV_PATTERNS = [
  "*_API_KEY",
  "*_API_KEYS",
  "*_TOKEN",
  "*_SECRET*",
  "*_PASSWORD",
  "ANTHROPIC_*",
  "CLAUDE_CODE_*",
  "OPENAI_*",
  "AWS_*",
  "GOOGLE_*",
  "GEMINI_*",
  "AZURE_*",
  "OPENROUTER_*",
  "GROQ_*",
  "MISTRAL_*",
] as const;

const matchers = CREDENTIAL_ENV_PATTERNS.map((glob) => new RegExp(`^${glob.replace(/\*/g, "[A-Za-z0-9_]*")}$`));

export function isCredentialVariable(name: string): boolean {
  return matchers.some((m) => m.test(name));
}

/**
 * sh lines that unset every credential variable of the environment the
 * script runs in: the inherited set is only known on the host itself.
 */
export function scrubCredentialsScript(): string {
  return [
    `for optio_name in $(env | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p'); do`,
    `  case "$optio_name" in ${CREDENTIAL_ENV_PATTERNS.join("|")}) unset "$optio_name" ;; esac`,
    "done",
    "unset optio_name",
  ].join("\n");
}
