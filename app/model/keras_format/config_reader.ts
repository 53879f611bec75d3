// Reads one Keras layer config (snake_case keys, as tf.keras 2.x and TensorFlow.js write
// them) and makes sure nothing is silently dropped: every key must be read, and keys for
// features Strata does not have (regularizers, constraints, masking) must be unset.
import { ConfigError } from '../errors.ts';
import type { InitializerConfig } from '../initializers.ts';
import type { LayerArgs } from '../layer.ts';
import type { Shape } from '../shape.ts';

export class ConfigReader {
  private readonly unread: Set<string>;
  readonly where: string;

  constructor(
    readonly className: string,
    private readonly config: Record<string, unknown>,
  ) {
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new ConfigError(`${className}: config must be an object, got ${JSON.stringify(config)}`);
    }
    this.unread = new Set(Object.keys(config));
    this.where = typeof config.name === 'string' ? `${config.name} (${className})` : className;
  }

  has(key: string): boolean {
    return this.config[key] !== undefined && this.config[key] !== null;
  }

  private take(key: string): unknown {
    this.unread.delete(key);
    return this.config[key];
  }

  fail(key: string, expected: string, value: unknown): never {
    throw new ConfigError(`${this.where}: "${key}" must be ${expected}, got ${JSON.stringify(value)}`);
  }

  number(key: string): number;
  number(key: string, fallback: number): number;
  number(key: string, fallback?: number): number {
    const value = this.take(key) ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(key, 'a number', value);
    return value;
  }

  optionalNumber(key: string): number | undefined {
    const value = this.take(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number') this.fail(key, 'a number or null', value);
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.take(key) ?? fallback;
    if (typeof value !== 'boolean') this.fail(key, 'true or false', value);
    return value;
  }

  string<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.take(key) ?? fallback;
    if (typeof value !== 'string' || !allowed.includes(value as T)) this.fail(key, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
    return value as T;
  }

  optionalString(key: string): string | undefined {
    const value = this.take(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') this.fail(key, 'a string', value);
    return value;
  }

  intTuple(key: string, fallback?: number[]): number[] {
    let value = this.take(key) ?? fallback;
    if (typeof value === 'number') value = [value];
    if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v))) this.fail(key, 'an integer or a list of integers', value);
    return value as number[];
  }

  /** A value the layer checks itself (its constructor names the layer and the key), or `fallback` when absent. */
  raw(key: string, fallback: unknown): unknown {
    return this.take(key) ?? fallback;
  }

  optionalIntTuple(key: string): number[] | undefined {
    return this.has(key) ? this.intTuple(key) : (this.take(key), undefined);
  }

  shape(key: string): Shape | undefined {
    const value = this.take(key);
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || !value.every((v) => v === null || Number.isInteger(v))) this.fail(key, 'a shape (a list of integers and nulls)', value);
    return value as Shape;
  }

  initializer(key: string): InitializerConfig | string | undefined {
    const value = this.take(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    if (typeof value === 'object' && typeof (value as InitializerConfig).class_name === 'string') {
      // Keras 3 adds "module" and "registered_name" beside class_name and config.
      const { class_name, config } = value as InitializerConfig;
      return { class_name, config: config ?? {} };
    }
    return this.fail(key, 'an initializer name or {"class_name", "config"}', value);
  }

  /** Keys Strata has no feature for: accepted only when unset (null, false or the default). */
  unsupported(key: string, allowed: unknown[] = [null]): void {
    const value = this.take(key);
    if (value === undefined || allowed.some((a) => JSON.stringify(a) === JSON.stringify(value))) return;
    throw new ConfigError(`${this.where}: "${key}" = ${JSON.stringify(value)} is not supported`);
  }

  /** The base-layer fields every config carries: name, trainable, dtype, input shape. */
  layerArgs(): LayerArgs {
    const args: LayerArgs = {};
    const name = this.optionalString('name');
    if (name !== undefined) args.name = name;
    args.trainable = this.boolean('trainable', true);
    this.dtype();
    const batchInputShape = this.shape('batch_input_shape') ?? this.shape('batch_shape');
    if (batchInputShape) args.batchInputShape = batchInputShape;
    const batchSize = this.optionalNumber('batch_size');
    if (batchSize !== undefined) args.batchSize = batchSize;
    // Keras 3 writes these beside the layer's own fields; they carry nothing Strata needs.
    this.take('build_config');
    this.unsupported('quantization_config');
    return args;
  }

  /** dtype: "float32", or Keras 3's {"class_name": "DTypePolicy", "config": {"name": "float32"}}. */
  private dtype(): void {
    const value = this.take('dtype');
    if (value === undefined || value === null || value === 'float32') return;
    if (typeof value === 'object' && (value as { config?: { name?: unknown } }).config?.name === 'float32') return;
    throw new ConfigError(`${this.where}: dtype ${JSON.stringify(value)} is not supported; Strata computes in float32`);
  }

  /** channels_last is Keras's default; channels_first would need transposes Strata does not make. */
  channelsLast(): void {
    this.string('data_format', ['channels_last'], 'channels_last');
  }

  /** Throws for every key that no reader asked for. */
  finish(): void {
    if (this.unread.size > 0) {
      const keys = [...this.unread].map((k) => `"${k}"`).join(', ');
      throw new ConfigError(`${this.where}: unsupported config key${this.unread.size > 1 ? 's' : ''} ${keys}`);
    }
  }
}
