/**
 * The workflow interceptor module of the bundle a worker with tracing on runs: a workflow it
 * starts has the tracing interceptors, one it replays keeps what its first task had
 * (src/workflows/tracing-by-history.ts).
 */
import { tracingInterceptorsByHistory } from './tracing-by-history';

export const interceptors = () => tracingInterceptorsByHistory(true);
