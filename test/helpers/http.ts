/** A small JSON client for the API under test; answers status, headers and parsed body. */
export interface HttpResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Headers;
}

export class HttpClient {
  constructor(readonly baseUrl: string) {}

  async request(
    method: string,
    path: string,
    options: {
      body?: unknown;
      raw?: string;
      form?: FormData;
      token?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | FormData | undefined = options.form ?? options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    } else if (options.raw !== undefined) {
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(this.baseUrl + path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed, headers: response.headers };
  }

  get(path: string, token?: string) {
    return this.request('GET', path, { token });
  }

  /** POSTs `fields` as multipart/form-data: strings as fields, Blobs (a File) as files. */
  upload(path: string, fields: Record<string, string | Blob>, token?: string) {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields))
      if (typeof value === 'string') form.append(name, value);
      else form.append(name, value, value instanceof File ? value.name : 'upload.csv');
    return this.request('POST', path, { form, token });
  }

  post(path: string, body?: unknown, token?: string) {
    return this.request('POST', path, { body: body ?? {}, token });
  }
}
