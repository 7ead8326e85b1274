/**
 * The workflow interceptor module of the bundle a worker with tracing off runs: a workflow it
 * starts has no tracing interceptors (nor their modules), one it replays keeps what its first
 * task had (src/workflows/tracing-by-history.ts).
 */
import { tracingInterceptorsByHistory } from './tracing-by-history';

export const interceptors = () => tracingInterceptorsByHistory(false);
