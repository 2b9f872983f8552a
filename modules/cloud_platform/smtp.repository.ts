import { Injectable } from '@nestjs/common';
import nodemailer from 'nodemailer';

export type ProbeOutcome = { ok: true } | { ok: false; timedOut: boolean; reason: string };

/** Time allowed for the connection, the greeting and each answer of the SMTP server. */
export const SMTP_PROBE_TIMEOUT_MS = 4000;

/** Asks the SMTP server of SMTP_URL whether it answers EHLO (and accepts the credentials, if any). */
@Injectable()
export class SmtpRepository {
  async probe(url: string, signal: AbortSignal): Promise<ProbeOutcome> {
    const transport = nodemailer.createTransport({
      url,
      connectionTimeout: SMTP_PROBE_TIMEOUT_MS,
      greetingTimeout: SMTP_PROBE_TIMEOUT_MS,
      socketTimeout: SMTP_PROBE_TIMEOUT_MS,
    });
    const abort = () => transport.close();
    signal.addEventListener('abort', abort);
    try {
      await transport.verify();
      return { ok: true };
    } catch (error) {
      const { code, message } = error as { code?: string; message?: string };
      return {
        ok: false,
        timedOut: code === 'ETIMEDOUT' || /time(d)? ?out/i.test(message ?? ''),
        reason: message ?? String(error),
      };
    } finally {
      signal.removeEventListener('abort', abort);
      transport.close();
    }
  }
}
