// `@optio/agents/install`: the layers under `installAgent`, for an adapter whose install the description cannot say.
export {
  installFromRegistry,
  resolveRegistryPackage,
  workerTarballCacheDir,
  type InstallContext,
  type RegistryInstallResult,
  type ResolvedRegistryPackage,
} from "./install/registry-package.js";
export { installAgentBinary, type AgentBinarySpec, type AgentInstallStrategy } from "./install/install-agent.js";
export { installViaVendorScript, type VendorScriptOptions } from "./install/vendor-script.js";
export { detectHostPlatform } from "./install/host-platform.js";
export {
  AgentInstallError,
  AgentNotInstalledError,
  IntegrityMismatchError,
  InvalidRegistrySpecError,
  PackageFetchError,
  UnsupportedPlatformError,
  VendorScriptError,
} from "./install/install-errors.js";
