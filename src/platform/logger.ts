import pino from 'pino';

/** A logger that keeps secrets and personal data out of what it writes (to stdout unless told). */
export function createLogger(destination?: pino.DestinationStream, level = process.env.LOG_LEVEL ?? 'info') {
  return pino(
    {
      level,
      redact: {
        // The codec sign-in cookie carries an admin's token, as the Authorization header does.
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          'req.headers["stripe-signature"]',
          'req.headers["x-razorpay-signature"]',
          '*.password',
          '*.passwordHash',
          '*.clientSecret',
          '*.secret',
          '*.keySecret',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export const logger = createLogger();
export type Logger = ReturnType<typeof createLogger>;
