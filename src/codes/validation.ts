import { z } from 'zod';
import { SUPPORTED_LOCALES } from '../platform/i18n.js';
import { ELIGIBILITIES, enrollmentTemplateProblem, OFFER_MODES, POOL_KINDS } from './rules.js';

/**
 * A pool as staff describe it, from the console form or the API. Issue messages are locale keys, so
 * the console shows them beside the field and the API returns them as they are.
 */
export const poolInputSchema = z
  .object({
    kind: z.enum(POOL_KINDS, 'codes:errors.kindMissing'),
    name: z.string().trim().min(1, 'codes:errors.nameMissing').max(200, 'codes:errors.nameTooLong'),
    vendorName: z.string().trim().min(1, 'codes:errors.vendorMissing').max(200, 'codes:errors.vendorTooLong'),
    enrollmentUrlTemplate: z
      .string()
      .trim()
      .default('')
      .refine(
        (value) => value === '' || enrollmentTemplateProblem(value) === null,
        'codes:errors.enrollmentUrlInvalid',
      )
      .transform((value) => (value === '' ? null : value)),
    enrollBy: z
      .string()
      .trim()
      .default('')
      .refine(
        (value) =>
          value === '' ||
          (/^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))),
        'codes:errors.enrollByInvalid',
      )
      .transform((value) => (value === '' ? null : value)),
    eligibility: z.enum(ELIGIBILITIES, 'codes:errors.eligibilityMissing'),
    eligibleDataTypes: z.array(z.string().min(1)).default([]),
    offerMode: z.enum(OFFER_MODES, 'codes:errors.offerModeMissing').default('reveal_link'),
    lowStockThreshold: z.coerce
      .number('codes:errors.thresholdInvalid')
      .int('codes:errors.thresholdInvalid')
      .min(0, 'codes:errors.thresholdInvalid')
      .max(1_000_000, 'codes:errors.thresholdInvalid')
      .default(20),
    instructions: z
      .partialRecord(
        z.enum(SUPPORTED_LOCALES),
        z.string().trim().max(2_000, 'codes:errors.instructionsTooLong'),
      )
      .default({}),
  })
  .refine((pool) => pool.eligibility !== 'data_types' || pool.eligibleDataTypes.length > 0, {
    path: ['eligibleDataTypes'],
    message: 'codes:errors.dataTypesMissing',
  });

export type PoolInput = z.infer<typeof poolInputSchema>;

/**
 * The console form posts flat fields: `dataType_<type>=on` checkboxes and `instructions_<locale>`
 * text areas. This folds them into the shape the schema reads.
 */
export function poolInputFromForm(values: Record<string, string>): Record<string, unknown> {
  const instructions: Record<string, string> = {};
  for (const locale of SUPPORTED_LOCALES) {
    const text = values[`instructions_${locale}`]?.trim();
    if (text) instructions[locale] = text;
  }
  return {
    kind: values.kind,
    name: values.name ?? '',
    vendorName: values.vendorName ?? '',
    enrollmentUrlTemplate: values.enrollmentUrlTemplate ?? '',
    enrollBy: values.enrollBy ?? '',
    eligibility: values.eligibility,
    eligibleDataTypes: Object.keys(values)
      .filter((key) => key.startsWith('dataType_') && values[key] === 'on')
      .map((key) => key.slice('dataType_'.length)),
    offerMode: values.offerMode,
    lowStockThreshold: values.lowStockThreshold === '' ? undefined : values.lowStockThreshold,
    instructions,
  };
}

/** What a person or a shop types as a code: any spacing and case; the pool decides what it matches. */
export const redemptionSchema = z.object({
  code: z.string().trim().min(1, 'codes:errors.codeMissing').max(200, 'codes:errors.codeMissing'),
});

/** The console form, folded and validated in one step (for `parseForm`). */
export const poolFormSchema = z.preprocess(
  (values) => poolInputFromForm(values as Record<string, string>),
  poolInputSchema,
);
