// The library's structured logger (pino). Library code logs here, never to the console; quiet unless asked.

import { pino } from 'pino';

export const logger = pino({ name: 'sensorlake', level: process.env.SENSORLAKE_LOG_LEVEL ?? 'warn' }, pino.destination(2));
