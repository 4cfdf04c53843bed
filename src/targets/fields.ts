import { z } from 'zod';

/** Field schemas every kind's settings schema shares (zod): names, https URLs, ARM ids. */

/** An https URL without credentials; the message shows `example`. */
export const httpsUrl = (example: string) =>
  z
    .string()
    .trim()
    .refine((v) => {
      try {
        const u = new URL(v);
        return u.protocol === 'https:' && !u.username && !u.password;
      } catch {
        return false;
      }
    }, `expected an https URL without credentials, like ${example}`);

export const armId = z
  .string()
  .trim()
  .regex(/^\/subscriptions\/[^/]+(\/.*)?$/i, 'expected an ARM resource id starting with /subscriptions/<id>');

/** The fields of every target: its name, the resource's ARM id, an audience override. */
export const baseFields = {
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a name of letters, digits, ".", "_" or "-" (max 64)'),
  /** ARM id of the vault / storage account: used for fix commands and role look-ups. */
  resourceId: armId.optional(),
  /** Overrides the cloud's audience for this kind: a wrong value here is exactly what the verdict must catch. */
  audience: z.string().trim().min(1).optional(),
};
