import { z } from 'zod';
import { configSchema } from './schema.js';

/** The JSON Schema of the config file, generated from the zod schema (input side: defaults optional). */
export function configJsonSchema(): object {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return { ...schema, title: 'adaclip-edge configuration' };
}
