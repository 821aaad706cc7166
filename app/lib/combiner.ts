/**
 * Flat combining: at most one `run` in flight per key; requests that arrive while it runs wait and then go
 * together in the next `run`. A lone request runs at once (no timer, no added latency); under concurrency
 * one round trip serves many requests.
 *
 * `run` answers every request of the group, in order, or throws, which rejects every request of the group.
 */
export class Combiner<Key, Request, Result> {
  private readonly lanes = new Map<Key, Array<Pending<Request, Result>>>();

  constructor(
    private readonly run: (key: Key, group: Request[]) => Promise<Result[]>,
    /** Whether `request` may join a group that already holds `group` (a group always takes its first request). */
    private readonly fits: (group: Request[], request: Request) => boolean = () => true,
  ) {}

  submit(key: Key, request: Request): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      const waiting = this.lanes.get(key);
      if (waiting) {
        waiting.push({ request, resolve, reject });
        return;
      }
      const lane: Array<Pending<Request, Result>> = [{ request, resolve, reject }];
      this.lanes.set(key, lane);
      void this.drain(key, lane);
    });
  }

  private async drain(key: Key, lane: Array<Pending<Request, Result>>): Promise<void> {
    while (lane.length > 0) {
      const group = this.takeGroup(lane);
      try {
        const results = await this.run(
          key,
          group.map((pending) => pending.request),
        );
        if (results.length !== group.length) throw new Error(`combined run answered ${results.length} of ${group.length} requests`);
        group.forEach((pending, index) => pending.resolve(results[index]!));
      } catch (error) {
        for (const pending of group) pending.reject(error);
      }
    }
    this.lanes.delete(key);
  }

  private takeGroup(lane: Array<Pending<Request, Result>>): Array<Pending<Request, Result>> {
    const group = [lane.shift()!];
    const requests = [group[0]!.request];
    while (lane.length > 0 && this.fits(requests, lane[0]!.request)) {
      const next = lane.shift()!;
      group.push(next);
      requests.push(next.request);
    }
    return group;
  }
}

interface Pending<Request, Result> {
  request: Request;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}
