// Runs before each test file: the SDK's own INFO lines (worker state changes) would drown the output.
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
