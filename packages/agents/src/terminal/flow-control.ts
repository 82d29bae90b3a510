/** The two ends of a viewer's PTY that flow control acts on. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

export interface FlowControlOptions {
  /** Pause the PTY once this many sent characters are unacknowledged. Default 100,000. */
  highWater?: number;
  /** Resume once the unacknowledged count falls below this. Default 5,000. */
  lowWater?: number;
}

export const DEFAULT_HIGH_WATER = 100_000;
export const DEFAULT_LOW_WATER = 5_000;

/**
 * Per-viewer accounting of characters sent to the page and not yet written
 * by xterm. A page that cannot keep up (or a program that floods) pauses the
 * PTY instead of growing the worker's buffers; the hysteresis keeps
 * pause/resume from flapping on every chunk.
 */
export class FlowControl {
  readonly highWater: number;
  readonly lowWater: number;
  #unacked = 0;
  #paused = false;
  readonly #target: Pausable;

  constructor(target: Pausable, options: FlowControlOptions = {}) {
    this.highWater = options.highWater ?? DEFAULT_HIGH_WATER;
    this.lowWater = options.lowWater ?? DEFAULT_LOW_WATER;
    if (!(this.lowWater >= 0 && this.highWater > this.lowWater)) {
      throw new RangeError(`flow control needs 0 <= lowWater < highWater, got ${this.lowWater} and ${this.highWater}`);
    }
    this.#target = target;
  }

  get unacked(): number {
    return this.#unacked;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Records characters handed to the page. */
  sent(chars: number): void {
    if (!(chars > 0)) return;
    this.#unacked += chars;
    if (!this.#paused && this.#unacked > this.highWater) {
      this.#paused = true;
      this.#target.pause();
    }
  }

  /**
   * Records characters the page reports written. A page cannot acknowledge
   * more than it was sent, so the count is clamped at zero; a bogus value
   * cannot drive it negative and disable the next pause.
   */
  acked(chars: number): void {
    if (!Number.isFinite(chars) || chars <= 0) return;
    this.#unacked = Math.max(0, this.#unacked - Math.floor(chars));
    if (this.#paused && this.#unacked < this.lowWater) {
      this.#paused = false;
      this.#target.resume();
    }
  }
}
