/**
 * Failure messages and stack traces are moved into an encoded payload, which the encryption
 * codec then seals like any other: an error that repeats a customer's email address (an SMTP
 * refusal) never reaches history in clear text. Loaded by path (workers bundle it into workflow
 * code), so it stays a module of its own.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
