export { createConsoleRouter } from './console-routes';
export { ensureDemoOperator, type DemoOperator } from './console-demo';
