import pino from 'pino';

export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  // Secrets and personal data never reach the logs.
  redact: {
    paths: ['req.headers.authorization', 'req.headers["stripe-signature"]', '*.password', '*.passwordHash', '*.clientSecret', '*.secret', '*.keySecret'],
    censor: '[redacted]',
  },
});
export type Logger = typeof logger;
