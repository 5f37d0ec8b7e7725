// The repaver lane's pure core: names, observations, pace, health, breaker, plan, input and state.
export * from './names.js';
export * from './observed.js';
export * from './machines.js';
export * from './pace.js';
export * from './health.js';
export * from './breaker.js';
export * from './keyrings.js';
export * from './reasons.js';
export * from './plan.js';
export * from './input.js';
export * from './state.js';
