using System;
using System.Buffers;
using System.IO;
using MailKit;
using MailKit.Net.Imap;

namespace ReplyAdmin.Engine.Imap
{
    /// <summary>
    /// The engine's IMAP client: the same as MailKit's, except that fetched message data lands in a <see cref="FetchedBody"/>
    /// (see <see cref="ReplyImapFolder"/>).
    /// </summary>
    internal sealed class ReplyImapClient : ImapClient
    {
        protected override ImapFolder CreateImapFolder(ImapFolderConstructorArgs args) => new ReplyImapFolder(args);
    }

    /// <summary>
    /// A folder whose fetched message data (FETCH BODY[...] literals) goes into one buffer of the literal's announced size,
    /// instead of MailKit's default <see cref="MimeKit.IO.MemoryBlockStream"/> of 2 KB blocks that grows while it is written.
    /// </summary>
    internal sealed class ReplyImapFolder : ImapFolder
    {
        public ReplyImapFolder(ImapFolderConstructorArgs args) : base(args)
        {
        }

        protected override Stream CreateStream(UniqueId? uid, string section, int offset, int length) => new FetchedBody(length);
    }

    /// <summary>
    /// A seekable stream over one byte array sized for the data it will hold: written once (by MailKit, as the literal
    /// arrives), then read, possibly several times. Arrays up to <see cref="PooledLimit"/> come from the shared pool and go
    /// back on <see cref="Stream.Dispose()"/>; larger ones are allocated without zeroing, as the data overwrites them.
    /// </summary>
    internal sealed class FetchedBody : Stream
    {
        // Replies are mostly a few KB; a batch of them then rents and returns instead of allocating. Messages of several MB
        // would hold arrays of the next power of two in the pool; they are allocated for their exact size.
        internal const int PooledLimit = 1024 * 1024;

        private byte[] _buffer;
        private bool _pooled;
        private int _length;
        private int _position;

        /// <summary>A stream that will hold <paramref name="capacity"/> bytes (it grows if more are written).</summary>
        public FetchedBody(int capacity)
        {
            _buffer = Allocate(Math.Max(0, capacity), out _pooled);
        }

        private static byte[] Allocate(int size, out bool pooled)
        {
            pooled = size > 0 && size <= PooledLimit;
            if (size == 0) return Array.Empty<byte>();
            return pooled ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);
        }

        /// <summary>
        /// A new stream (at position 0) that takes over this one's bytes without copying them; this one is left empty. For a
        /// caller that keeps data MailKit disposes after a callback.
        /// </summary>
        internal FetchedBody Detach()
        {
            var taken = new FetchedBody(0) { _buffer = Buffer, _pooled = _pooled, _length = _length };
            _buffer = Array.Empty<byte>();
            _pooled = false;
            _length = _position = 0;
            return taken;
        }

        /// <summary>The bytes written so far, without copying (valid until the stream is disposed).</summary>
        internal ArraySegment<byte> Written => new ArraySegment<byte>(Buffer, 0, _length);

        private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(FetchedBody));

        public override bool CanRead => _buffer != null;
        public override bool CanSeek => _buffer != null;
        public override bool CanWrite => _buffer != null;
        public override long Length => _buffer != null ? _length : throw new ObjectDisposedException(nameof(FetchedBody));

        public override long Position
        {
            get => _buffer != null ? _position : throw new ObjectDisposedException(nameof(FetchedBody));
            set
            {
                if (value < 0 || value > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(value));
                _ = Buffer;
                _position = (int)value;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(new Span<byte>(buffer, offset, count));

        public override int Read(Span<byte> buffer)
        {
            var data = Buffer;
            var n = Math.Min(buffer.Length, _length - _position);
            if (n <= 0) return 0;
            new ReadOnlySpan<byte>(data, _position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override int ReadByte() => _position < _length ? Buffer[_position++] : -1;

        public override void Write(byte[] buffer, int offset, int count) => Write(new ReadOnlySpan<byte>(buffer, offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var end = (long)_position + buffer.Length;
            if (end > int.MaxValue) throw new IOException("A fetched message part cannot be larger than 2 GB.");
            if (end > Buffer.Length) Grow((int)end);
            if (_position > _length) Array.Clear(_buffer, _length, _position - _length);
            buffer.CopyTo(new Span<byte>(_buffer, _position, buffer.Length));
            _position = (int)end;
            if (_position > _length) _length = _position;
        }

        // Only when the server sends more than the size it announced.
        private void Grow(int needed)
        {
            var bigger = Allocate((int)Math.Min(int.MaxValue, Math.Max(needed, 2L * _buffer.Length)), out var pooled);
            System.Buffer.BlockCopy(_buffer, 0, bigger, 0, _length);
            Release();
            _buffer = bigger;
            _pooled = pooled;
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            var target = origin == SeekOrigin.Begin ? offset : origin == SeekOrigin.Current ? _position + offset : Length + offset;
            Position = target;
            return target;
        }

        public override void SetLength(long value)
        {
            if (value < 0 || value > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(value));
            if (value > Buffer.Length) Grow((int)value);
            if (value > _length) Array.Clear(_buffer, _length, (int)value - _length);
            _length = (int)value;
            if (_position > _length) _position = _length;
        }

        public override void Flush()
        {
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) Release();
            _buffer = null;
            base.Dispose(disposing);
        }

        private void Release()
        {
            if (_pooled && _buffer != null) ArrayPool<byte>.Shared.Return(_buffer);
            _pooled = false;
        }
    }
}
