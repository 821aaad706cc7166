export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

/**
 * Shopify's leaky bucket for one app on one shop: a query is refused (THROTTLED) when its requested
 * cost exceeds what is available; otherwise the requested cost is taken up front and the difference
 * to the actual cost is given back after execution. Points restore continuously at `restoreRate`/s.
 */
export class LeakyBucket {
  private available: number;
  private updatedAt: number;

  constructor(
    private size: number,
    private restoreRate: number,
    private readonly now: () => number = Date.now,
  ) {
    this.available = size;
    this.updatedAt = now();
  }

  configure(opts: { bucketSize?: number; restoreRate?: number }): void {
    this.refill();
    if (opts.bucketSize !== undefined) {
      this.size = opts.bucketSize;
      this.available = Math.min(this.available, this.size);
    }
    if (opts.restoreRate !== undefined) this.restoreRate = opts.restoreRate;
  }

  get maximum(): number {
    return this.size;
  }

  /** Takes `cost` points if available; false means the caller must answer THROTTLED. */
  take(cost: number): boolean {
    this.refill();
    if (cost > this.available) return false;
    this.available -= cost;
    return true;
  }

  refund(points: number): void {
    this.refill();
    this.available = Math.min(this.size, this.available + Math.max(0, points));
  }

  status(): ThrottleStatus {
    this.refill();
    return { maximumAvailable: this.size, currentlyAvailable: Math.floor(this.available), restoreRate: this.restoreRate };
  }

  private refill(): void {
    const now = this.now();
    this.available = Math.min(this.size, this.available + ((now - this.updatedAt) / 1000) * this.restoreRate);
    this.updatedAt = now;
  }
}
