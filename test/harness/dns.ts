import { createSocket, type Socket } from 'node:dgram';

/**
 * A real DNS server on 127.0.0.1 (UDP) that answers A queries from `records` and NXDOMAIN for other names: what a
 * channel URL's host resolves to, changed at will (a name that points at a metadata address, DNS rebinding).
 * Point Vigil at it with CHANNEL_DNS_SERVERS.
 */
export class DnsServer {
  readonly records = new Map<string, string>();
  port = 0;
  private socket?: Socket;

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const socket = createSocket('udp4');
    socket.on('message', (query, peer) => {
      const reply = this.answer(query);
      if (reply) socket.send(reply, peer.port, peer.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    this.port = socket.address().port;
    this.socket = socket;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.socket ? this.socket.close(() => resolve()) : resolve()));
  }

  private answer(query: Buffer): Buffer | undefined {
    if (query.length < 17) return undefined;
    const labels: string[] = [];
    let offset = 12;
    while (offset < query.length && query[offset] !== 0) {
      const length = query[offset];
      labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
      offset += length + 1;
    }
    const questionEnd = offset + 5;
    const type = query.readUInt16BE(offset + 1);
    const name = labels.join('.').toLowerCase();
    const address = this.records.get(name);
    const answers = address && type === 1 ? [address] : [];
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    // A response, recursion desired and available; NXDOMAIN for names it does not know.
    header.writeUInt16BE(address ? 0x8180 : 0x8183, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const records = answers.map((ip) => {
      const record = Buffer.alloc(16);
      record.writeUInt16BE(0xc00c, 0);
      record.writeUInt16BE(1, 2);
      record.writeUInt16BE(1, 4);
      record.writeUInt32BE(1, 6);
      record.writeUInt16BE(4, 10);
      ip.split('.').forEach((part, i) => record.writeUInt8(Number(part), 12 + i));
      return record;
    });
    return Buffer.concat([header, query.subarray(12, questionEnd), ...records]);
  }
}
