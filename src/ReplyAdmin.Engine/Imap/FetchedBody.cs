using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
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
    /// A folder whose fetched message data (FETCH BODY[...] literals) goes into pooled arrays fitted to the literal's announced
    /// size (<see cref="FetchedBody"/>), instead of MailKit's default <see cref="MimeKit.IO.MemoryBlockStream"/> of 2 KB
    /// blocks that grows while it is written.
    /// </summary>
    internal sealed class ReplyImapFolder : ImapFolder
    {
        public ReplyImapFolder(ImapFolderConstructorArgs args) : base(args)
        {
        }

        protected override Stream CreateStream(UniqueId? uid, string section, int offset, int length) => new FetchedBody(length);
    }

    /// <summary>
    /// A seekable stream over pooled arrays, sized for the data it will hold: written once (by MailKit, as the literal
    /// arrives), then read, possibly several times. The first array fits a small reply whole; a large message continues in
    /// arrays of <see cref="ChunkSize"/>. Every array comes from the shared pool and goes back on
    /// <see cref="Stream.Dispose()"/>, so a run of 9 MB messages reuses the same memory instead of leaving one large-object
    /// array per message for the garbage collector (which raised the peak RSS by up to 50 MB).
    /// </summary>
    internal sealed class FetchedBody : Stream
    {
        // Below the large-object threshold (85,000 bytes), and a size the shared pool keeps.
        internal const int ChunkSize = 64 * 1024;

        private List<byte[]> _chunks = new List<byte[]>();
        private int _first; // the length of _chunks[0]: up to ChunkSize, fitted to the announced size
        private int _length;
        private int _position;
        private bool _disposed;

        /// <summary>A stream that will hold <paramref name="capacity"/> bytes (it grows if more are written).</summary>
        public FetchedBody(int capacity)
        {
            _first = Math.Min(Math.Max(capacity, 256), ChunkSize);
        }

        /// <summary>
        /// A new stream (at position 0) that takes over this one's bytes without copying them; this one is left empty. For a
        /// caller that keeps data MailKit disposes after a callback.
        /// </summary>
        internal FetchedBody Detach()
        {
            Check();
            var taken = new FetchedBody(0) { _chunks = _chunks, _first = _first, _length = _length };
            _chunks = new List<byte[]>();
            _length = _position = 0;
            return taken;
        }

        public override bool CanRead => !_disposed;
        public override bool CanSeek => !_disposed;
        public override bool CanWrite => !_disposed;
        public override long Length => Check()._length;

        public override long Position
        {
            get => Check()._position;
            set
            {
                if (value < 0 || value > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(value));
                Check()._position = (int)value;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(new Span<byte>(buffer, offset, count));

        public override int Read(Span<byte> buffer)
        {
            Check();
            var total = 0;
            while (buffer.Length > 0 && _position < _length)
            {
                var (chunk, at) = Locate(_position);
                var n = Math.Min(Math.Min(buffer.Length, ChunkLength(chunk) - at), _length - _position);
                new ReadOnlySpan<byte>(_chunks[chunk], at, n).CopyTo(buffer);
                buffer = buffer.Slice(n);
                _position += n;
                total += n;
            }
            return total;
        }

        // The bytes are in memory: the asynchronous calls complete at once. Stream's own ReadAsync and WriteAsync queue a
        // thread-pool work item per call, and an APPEND reads a 9 MB body 64 KB at a time: some 150 hand-offs between
        // threads per message, which kept the pool's threads spinning (a sixth of a native run's CPU from an IMAP source).
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(new Memory<byte>(buffer, offset, count), cancellationToken).AsTask();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<int>(cancellationToken);
            try { return new ValueTask<int>(Read(buffer.Span)); }
            catch (Exception e) { return ValueTask.FromException<int>(e); }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(new ReadOnlyMemory<byte>(buffer, offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
            try
            {
                Write(buffer.Span);
                return default;
            }
            catch (Exception e) { return ValueTask.FromException(e); }
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int ReadByte()
        {
            if (Check()._position >= _length) return -1;
            var (chunk, at) = Locate(_position++);
            return _chunks[chunk][at];
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(new ReadOnlySpan<byte>(buffer, offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Check();
            if ((long)_position + buffer.Length > int.MaxValue) throw new IOException("A fetched message part cannot be larger than 2 GB.");
            if (_position > _length) SetLength(_position);
            EnsureCapacity(_position + buffer.Length);
            while (buffer.Length > 0)
            {
                var (chunk, at) = Locate(_position);
                var n = Math.Min(buffer.Length, ChunkLength(chunk) - at);
                buffer.Slice(0, n).CopyTo(new Span<byte>(_chunks[chunk], at, n));
                buffer = buffer.Slice(n);
                _position += n;
            }
            if (_position > _length) _length = _position;
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            var target = origin == SeekOrigin.Begin ? offset : origin == SeekOrigin.Current ? Position + offset : Length + offset;
            Position = target;
            return target;
        }

        public override void SetLength(long value)
        {
            if (value < 0 || value > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(value));
            Check();
            var length = (int)value;
            if (length > _length)
            {
                // Pooled arrays hold old data: what lies between the old and the new end reads as zeros.
                EnsureCapacity(length);
                for (var from = _length; from < length;)
                {
                    var (chunk, at) = Locate(from);
                    var n = Math.Min(ChunkLength(chunk) - at, length - from);
                    Array.Clear(_chunks[chunk], at, n);
                    from += n;
                }
            }
            _length = length;
            if (_position > _length) _position = _length;
        }

        public override void Flush()
        {
        }

        // The chunk holding byte `position`, and the offset in it: chunk 0 has _first bytes, every other ChunkSize.
        private (int Chunk, int At) Locate(int position) =>
            position < _first ? (0, position) : (1 + (position - _first) / ChunkSize, (position - _first) % ChunkSize);

        // Rent may hand out a larger array than asked for; only this much of each is used, so Locate stays exact.
        private int ChunkLength(int chunk) => chunk == 0 ? _first : ChunkSize;

        private void EnsureCapacity(int size)
        {
            while (Capacity < size)
                _chunks.Add(ArrayPool<byte>.Shared.Rent(_chunks.Count == 0 ? _first : ChunkSize));
        }

        private long Capacity => _chunks.Count == 0 ? 0 : _first + (long)(_chunks.Count - 1) * ChunkSize;

        private FetchedBody Check() => _disposed ? throw new ObjectDisposedException(nameof(FetchedBody)) : this;

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                foreach (var chunk in _chunks) ArrayPool<byte>.Shared.Return(chunk);
                _chunks.Clear();
            }
            _disposed = true;
            base.Dispose(disposing);
        }
    }
}
