export { createHealthRouter } from './health-routes';
export type { Lifecycle } from './health-routes';
