// Bounds how many expensive jobs (password hashes) run at once, and how many may wait.
// Beyond the queue the caller is told to come back later instead of piling up memory and latency.

export class Busy extends Error {
  override name = 'Busy';
}

export class Semaphore {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(
    private readonly limit: number,
    private readonly maxQueue: number,
  ) {}

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      if (this.waiting.length >= this.maxQueue) throw new Busy('too many operations in progress');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter so `running` never dips and refills.
      if (next) next();
      else this.running--;
    }
  }

  get active(): number {
    return this.running;
  }
  get queued(): number {
    return this.waiting.length;
  }
}
