// `@optio/agents/terminal`: the web terminal and the tmux session it serves.
export {
  TerminalServer,
  closeSharedTerminalServer,
  publishTerminal,
  sharedTerminalServer,
  type PublishedTerminal,
  type PublishOptions,
  type TerminalServerOptions,
  type TerminalTarget,
} from "./terminal/terminal-server.js";
export {
  TmuxMissingError,
  readScreen,
  startTmuxSession,
  stopTmuxSession,
  type TmuxSession,
} from "./terminal/tmux.js";
