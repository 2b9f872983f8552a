/**
 * Injection token of the validated AppConfig. The configuration is read before Nest starts (it chooses the database,
 * the worker count and the addons), so it is provided as a value, not through @nestjs/config's ConfigModule.
 */
export const APP_CONFIG = Symbol('APP_CONFIG');
