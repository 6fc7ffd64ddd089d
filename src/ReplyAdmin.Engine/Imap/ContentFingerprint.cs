using System;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using MimeKit;

namespace ReplyAdmin.Engine.Imap
{
    /// <summary>
    /// The identity of a message's bytes for recovery: a SHA-256 over the bytes with CR dropped, NUL read as 0x80
    /// (Dovecot sends NULs as 0x80) and trailing line ends ignored, so the copy the server holds and the original
    /// compare equal whatever line ends either side uses. Also the length as APPEND sends it (CRLF line ends).
    /// </summary>
    internal sealed class ContentFingerprint
    {
        private ContentFingerprint(byte[] hash, long wireLength)
        {
            Hash = hash;
            WireLength = wireLength;
        }

        public byte[] Hash { get; }

        /// <summary>Bytes as written to APPEND (CRLF line ends).</summary>
        public long WireLength { get; }

        public bool SameAs(ContentFingerprint other)
        {
            if (other == null || other.Hash.Length != Hash.Length) return false;
            for (var i = 0; i < Hash.Length; i++)
                if (Hash[i] != other.Hash[i]) return false;
            return true;
        }

        /// <summary>The fingerprint of a message as APPEND writes it (streamed; nothing is held in memory).</summary>
        public static ContentFingerprint Of(MimeMessage message, CancellationToken cancellationToken)
        {
            var options = FormatOptions.Default.Clone();
            options.NewLineFormat = NewLineFormat.Dos;
            options.EnsureNewLine = true;
            using (var sink = new NormalizingHashStream())
            {
                message.WriteTo(options, sink, cancellationToken);
                return sink.Finish();
            }
        }

        /// <summary>The fingerprint of stored bytes.</summary>
        public static ContentFingerprint Of(Stream stream)
        {
            using (var sink = new NormalizingHashStream())
            {
                stream.CopyTo(sink, 81920);
                return sink.Finish();
            }
        }

        private sealed class NormalizingHashStream : Stream
        {
            private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            private readonly byte[] _out = new byte[81920];
            private long _length;
            private int _pendingLineFeeds;
            private static readonly byte[] LineFeed = { (byte)'\n' };

            public ContentFingerprint Finish() => new ContentFingerprint(_hash.GetHashAndReset(), _length);

            public override void Write(byte[] buffer, int offset, int count)
            {
                _length += count;
                var n = 0;
                for (var i = offset; i < offset + count; i++)
                {
                    var b = buffer[i];
                    if (b == '\r') continue;
                    if (b == '\n') { _pendingLineFeeds++; continue; }
                    if (_pendingLineFeeds > 0)
                    {
                        if (n > 0) { _hash.AppendData(_out, 0, n); n = 0; }
                        for (; _pendingLineFeeds > 0; _pendingLineFeeds--) _hash.AppendData(LineFeed);
                    }
                    _out[n++] = b == 0 ? (byte)0x80 : b;
                    if (n == _out.Length) { _hash.AppendData(_out, 0, n); n = 0; }
                }
                if (n > 0) _hash.AppendData(_out, 0, n);
            }

            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => _length;
            public override long Position { get => _length; set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();

            protected override void Dispose(bool disposing)
            {
                if (disposing) _hash.Dispose();
                base.Dispose(disposing);
            }
        }
    }
}
