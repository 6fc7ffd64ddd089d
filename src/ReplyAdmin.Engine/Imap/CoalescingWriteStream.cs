using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace ReplyAdmin.Engine.Imap
{
    /// <summary>
    /// Sits between MailKit and the TLS stream and gathers writes into large ones. MailKit's IMAP stream writes
    /// in 4 KB blocks, and <see cref="System.Net.Security.SslStream"/> turns every write into its own TLS record
    /// and send call: a 9 MB APPEND became some 2,300 4 KB records. Gathered here, the TLS stream gets writes of
    /// the buffer's size and sends full 16 KB records. MailKit flushes after every command and before it waits
    /// for a continuation, so nothing waits in the buffer while the client waits for the server. Reads pass
    /// through. Read and write timeouts also apply to the asynchronous calls (a plain
    /// <see cref="System.Net.Sockets.NetworkStream"/> honours them only in synchronous calls), as they do in
    /// MailKit's own network stream: a hung server ends the call instead of waiting forever.
    /// </summary>
    internal sealed class CoalescingWriteStream : Stream
    {
        private readonly Stream _inner;
        private readonly byte[] _buffer;
        private int _count;
        private int _readTimeout = Timeout.Infinite;
        private int _writeTimeout = Timeout.Infinite;

        public CoalescingWriteStream(Stream inner, int bufferSize)
        {
            _inner = inner ?? throw new ArgumentNullException(nameof(inner));
            _buffer = new byte[bufferSize];
        }

        public override bool CanRead => _inner.CanRead;
        public override bool CanWrite => _inner.CanWrite;
        public override bool CanSeek => false;
        public override bool CanTimeout => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        /// <summary>Milliseconds a read may wait (synchronous and asynchronous); <see cref="Timeout.Infinite"/> for no limit.</summary>
        public override int ReadTimeout
        {
            get => _readTimeout;
            set
            {
                CheckTimeout(value);
                _readTimeout = value;
                if (_inner.CanTimeout) _inner.ReadTimeout = value;
            }
        }

        /// <summary>Milliseconds a write may wait (synchronous and asynchronous); <see cref="Timeout.Infinite"/> for no limit.</summary>
        public override int WriteTimeout
        {
            get => _writeTimeout;
            set
            {
                CheckTimeout(value);
                _writeTimeout = value;
                if (_inner.CanTimeout) _inner.WriteTimeout = value;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            // MailKit reads 4 KB at a time and the TLS stream hands out a 16 KB record from its buffer: most reads complete
            // at once, and only one that has to wait for the network gets a timer (a timer per read cost CPU on every 4 KB).
            var read = _inner.ReadAsync(buffer, offset, count, cancellationToken);
            return read.IsCompleted || _readTimeout == Timeout.Infinite ? read : WithTimeoutAsync(read, cancellationToken);
        }

        private async Task<int> WithTimeoutAsync(Task<int> read, CancellationToken cancellationToken)
        {
            try
            {
                return await read.WaitAsync(TimeSpan.FromMilliseconds(_readTimeout), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException e)
            {
                // The read still waits on the socket: closing the connection ends it (a connection that timed out is not used again).
                _ = read.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                _inner.Dispose();
                throw TimedOut($"The server sent nothing for {_readTimeout / 1000.0:0.#} s.", e);
            }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (_count == 0 && count >= _buffer.Length)
            {
                _inner.Write(buffer, offset, count);
                return;
            }
            while (count > 0)
            {
                var n = Math.Min(count, _buffer.Length - _count);
                Buffer.BlockCopy(buffer, offset, _buffer, _count, n);
                _count += n;
                offset += n;
                count -= n;
                if (_count == _buffer.Length)
                    WriteBuffer();
            }
        }

        public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (_count == 0 && count >= _buffer.Length)
            {
                await WriteInnerAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
                return;
            }
            while (count > 0)
            {
                var n = Math.Min(count, _buffer.Length - _count);
                Buffer.BlockCopy(buffer, offset, _buffer, _count, n);
                _count += n;
                offset += n;
                count -= n;
                if (_count == _buffer.Length)
                    await WriteBufferAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public override void Flush()
        {
            WriteBuffer();
            _inner.Flush();
        }

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            await WriteBufferAsync(cancellationToken).ConfigureAwait(false);
            await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            // Whatever is still buffered is dropped: MailKit flushes every command, and a connection being
            // disposed with unflushed bytes is one that broke (writing to it could only hang or fail).
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }

        private void WriteBuffer()
        {
            if (_count == 0) return;
            var count = _count;
            _count = 0;
            _inner.Write(_buffer, 0, count);
        }

        private Task WriteBufferAsync(CancellationToken cancellationToken)
        {
            if (_count == 0) return Task.CompletedTask;
            var count = _count;
            _count = 0;
            return WriteInnerAsync(_buffer, 0, count, cancellationToken);
        }

        private async Task WriteInnerAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (_writeTimeout == Timeout.Infinite)
            {
                await _inner.WriteAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
                return;
            }
            using (var timeout = new CancellationTokenSource(_writeTimeout))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
            {
                try
                {
                    await _inner.WriteAsync(buffer, offset, count, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw TimedOut($"The server took no data for {_writeTimeout / 1000.0:0.#} s.", e);
                }
            }
        }

        // The shape MailKit's own network stream gives a timeout: an IOException around a TimeoutException.
        private static IOException TimedOut(string message, Exception cause) => new IOException(message, new TimeoutException(message, cause));

        private static void CheckTimeout(int value)
        {
            if (value <= 0 && value != Timeout.Infinite)
                throw new ArgumentOutOfRangeException(nameof(value));
        }
    }
}
