// Counters, gauges and histograms written out in the Prometheus text exposition format
// (version 0.0.4: "# HELP", "# TYPE", then one sample per line). Hand-written because Parley
// needs a handful of unlabelled metrics, not a client library: no labels except constant ones,
// no summaries. Gauges are read when scraped, so they cost nothing between scrapes.

export type Collect = () => number | Promise<number>;

interface Metric {
  name: string;
  render(): Promise<string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const formatNumber = (n: number) => (Number.isNaN(n) ? 'NaN' : n === Infinity ? '+Inf' : n === -Infinity ? '-Inf' : String(n));
const labelText = (labels: Record<string, string>) => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};
const header = (name: string, help: string, type: string) => `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;

export class Counter implements Metric {
  private value = 0;
  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}
  inc(by = 1): void {
    if (by > 0) this.value += by;
  }
  get current(): number {
    return this.value;
  }
  async render(): Promise<string> {
    return `${header(this.name, this.help, 'counter')}${this.name} ${formatNumber(this.value)}\n`;
  }
}

export class Gauge implements Metric {
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly collect: Collect,
    private readonly labels: Record<string, string> = {},
  ) {}
  async render(): Promise<string> {
    let value: number;
    try {
      value = await this.collect();
    } catch {
      // A source that cannot answer (the database is away) leaves the gauge out of this scrape
      // rather than failing the whole page: the other metrics matter most exactly then.
      return header(this.name, this.help, 'gauge');
    }
    return `${header(this.name, this.help, 'gauge')}${this.name}${labelText(this.labels)} ${formatNumber(value)}\n`;
  }
}

export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly buckets: readonly number[],
  ) {
    if (buckets.some((b, i) => i > 0 && b <= buckets[i - 1]!)) throw new Error(`${name}: buckets must increase`);
    this.counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    this.sum += value;
    this.count++;
    // Buckets are cumulative in the exposition; here each holds its own share, summed on render.
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) this.counts[i]!++;
  }
  async render(): Promise<string> {
    let out = header(this.name, this.help, 'histogram');
    let cumulative = 0;
    this.buckets.forEach((b, i) => {
      cumulative += this.counts[i]!;
      out += `${this.name}_bucket{le="${formatNumber(b)}"} ${cumulative}\n`;
    });
    out += `${this.name}_bucket{le="+Inf"} ${this.count}\n${this.name}_sum ${formatNumber(this.sum)}\n${this.name}_count ${this.count}\n`;
    return out;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  add<M extends Metric>(metric: M): M {
    if (!NAME.test(metric.name)) throw new Error(`bad metric name ${metric.name}`);
    if (this.metrics.some((m) => m.name === metric.name)) throw new Error(`metric ${metric.name} registered twice`);
    this.metrics.push(metric);
    return metric;
  }
  async expose(): Promise<string> {
    return (await Promise.all(this.metrics.map((m) => m.render()))).join('');
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
