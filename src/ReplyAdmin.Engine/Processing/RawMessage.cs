using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using MimeKit.IO;
using MimeKit.IO.Filters;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// Loads a message so that writing it (to IMAP APPEND or SMTP) reproduces the original bytes: the header
    /// fields as parsed (MimeKit writes unmodified fields raw) and the body copied unparsed from the source
    /// stream. Nothing is re-encoded, malformed MIME is kept as it came, and a large body is streamed, not copied.
    /// </summary>
    public static class RawMessage
    {
        /// <summary>Loads the message at the stream's current position; the stream must stay open while the message is used.</summary>
        /// <param name="stream">A seekable stream holding one message (an mbox "From " line at the start is skipped).</param>
        /// <param name="knownHeaders">The message's header fields as already read from the source (saves parsing them again); null to parse them.</param>
        /// <param name="cancellationToken">Cancels the parse.</param>
        public static async Task<MimeMessage> LoadAsync(Stream stream, HeaderList knownHeaders, CancellationToken cancellationToken)
        {
            var start = SkipEnvelopeLine(stream);
            var bodyOffset = FindBody(stream, start);
            stream.Position = start;
            var headers = knownHeaders;
            if (headers == null)
            {
                try
                {
                    headers = new MimeParser(stream, MimeFormat.Entity, persistent: true).ParseHeaders(cancellationToken);
                }
                catch (FormatException)
                {
                    headers = null;
                }
            }
            // Known or parsed, the fields must account for the whole header block byte for byte, or the raw body would be cut wrong.
            if (headers == null || headers.Count == 0 || bodyOffset < 0 || RawLength(headers) != bodyOffset - start - BlankLineLength(stream, bodyOffset))
            {
                // The header block is not what MimeKit parsed (a field without a colon, no blank line, ...):
                // let MimeKit parse the whole message, which keeps what it can.
                stream.Position = start;
                return await MimeMessage.LoadAsync(ParserOptions.Default, stream, persistent: true, cancellationToken).ConfigureAwait(false);
            }
            var message = new MimeMessage(headers) { Body = new RawBody(stream, bodyOffset) };
            return message;
        }

        /// <summary>
        /// A message of <paramref name="headers"/> whose body is the whole of <paramref name="stream"/>, unparsed: for a
        /// message that cannot be read as e-mail, stored as it came under headers of ours.
        /// </summary>
        public static MimeMessage Enclose(Stream stream, HeaderList headers) =>
            new MimeMessage(headers) { Body = new RawBody(stream, 0) };

        // An mbox envelope line ("From sender date") is not part of the message.
        private static long SkipEnvelopeLine(Stream stream)
        {
            var start = stream.Position;
            var head = new byte[5];
            var read = stream.Read(head, 0, 5);
            if (read == 5 && head[0] == 'F' && head[1] == 'r' && head[2] == 'o' && head[3] == 'm' && head[4] == ' ')
            {
                int b;
                while ((b = stream.ReadByte()) != -1 && b != '\n') { }
                return stream.Position;
            }
            return start;
        }

        // The offset after the first empty line (LF LF or LF CR LF), or -1 when there is none.
        private static long FindBody(Stream stream, long start)
        {
            stream.Position = start;
            var buffer = new byte[8192];
            int previous = '\n', beforePrevious = -1;
            long offset = start;
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                for (var i = 0; i < read; i++, offset++)
                {
                    var b = buffer[i];
                    if (b == '\n' && (previous == '\n' || (previous == '\r' && beforePrevious == '\n')) && offset > start)
                        return offset + 1;
                    beforePrevious = previous;
                    previous = b;
                }
            }
            return -1;
        }

        private static int BlankLineLength(Stream stream, long bodyOffset)
        {
            stream.Position = bodyOffset - 2;
            return stream.ReadByte() == '\r' ? 2 : 1;
        }

        private static long RawLength(HeaderList headers)
        {
            long length = 0;
            foreach (var header in headers)
                length += header.RawField.Length + 1 + header.RawValue.Length;
            return length;
        }

        /// <summary>A body that writes the original bytes, with line ends made CRLF as IMAP and SMTP require.</summary>
        private sealed class RawBody : MimeEntity
        {
            private const int BufferSize = 64 * 1024;
            private static readonly byte[] Nothing = new byte[BufferSize];
            private readonly Stream _source;
            private readonly long _offset;
            private long _bareLineFeeds = -1;

            public RawBody(Stream source, long offset) : base(new ContentType("application", "octet-stream"))
            {
                _source = source;
                _offset = offset;
                Headers.Clear(); // the message's own Content-* fields are written from its header list
            }

            public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
            {
                // Sent as it came: nothing to re-encode.
            }

            public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
            {
                var dos = options.NewLineFormat == NewLineFormat.Dos;
                if (stream is MeasuringStream)
                {
                    // MailKit measures a message before sending it as a literal: count instead of copying.
                    var length = _source.Length - _offset + (dos ? BareLineFeeds(cancellationToken) : 0);
                    for (; length > 0; length -= Nothing.Length)
                        stream.Write(Nothing, 0, (int)Math.Min(length, Nothing.Length));
                    return;
                }
                var filter = dos && BareLineFeeds(cancellationToken) > 0; // counting reads the body: decide before positioning
                _source.Position = _offset;
                using (var target = filter ? Filtered(stream) : null)
                {
                    var output = (Stream)target ?? stream;
                    var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                    try
                    {
                        int read;
                        while ((read = _source.Read(buffer, 0, BufferSize)) > 0)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            output.Write(buffer, 0, read);
                        }
                    }
                    finally { ArrayPool<byte>.Shared.Return(buffer); }
                    output.Flush();
                }
            }

            public override async Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
            {
                if (stream is MeasuringStream)
                {
                    WriteTo(options, stream, contentOnly, cancellationToken);
                    return;
                }
                var filter = options.NewLineFormat == NewLineFormat.Dos && BareLineFeeds(cancellationToken) > 0;
                _source.Position = _offset;
                using (var target = filter ? Filtered(stream) : null)
                {
                    var output = (Stream)target ?? stream;
                    var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                    try
                    {
                        int read;
                        while ((read = await _source.ReadAsync(buffer, 0, BufferSize, cancellationToken).ConfigureAwait(false)) > 0)
                            await output.WriteAsync(buffer, 0, read, cancellationToken).ConfigureAwait(false);
                    }
                    finally { ArrayPool<byte>.Shared.Return(buffer); }
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            // Line feeds without a carriage return before them: each becomes CRLF on the wire. Counted once.
            private long BareLineFeeds(CancellationToken cancellationToken)
            {
                if (_bareLineFeeds >= 0) return _bareLineFeeds;
                _source.Position = _offset;
                var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                long count = 0;
                try
                {
                    var previous = (byte)'\n';
                    int read;
                    while ((read = _source.Read(buffer, 0, BufferSize)) > 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        // IndexOf is vectorized: it skips a whole line at a time instead of testing every byte.
                        var block = new ReadOnlySpan<byte>(buffer, 0, read);
                        var at = 0;
                        int found;
                        while ((found = block.Slice(at).IndexOf((byte)'\n')) >= 0)
                        {
                            var index = at + found;
                            if ((index == 0 ? previous : block[index - 1]) != '\r') count++;
                            at = index + 1;
                        }
                        previous = block[read - 1];
                    }
                }
                finally { ArrayPool<byte>.Shared.Return(buffer); }
                return _bareLineFeeds = count;
            }

            private static FilteredStream Filtered(Stream stream)
            {
                var filtered = new FilteredStream(stream);
                filtered.Add(new Unix2DosFilter());
                return filtered;
            }
        }
    }
}
