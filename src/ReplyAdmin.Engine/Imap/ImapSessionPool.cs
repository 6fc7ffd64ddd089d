using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;
using System.Threading.Tasks;

namespace ReplyAdmin.Engine.Imap
{
    /// <summary>
    /// The connections of one run to one server, shared by the run's workers. A step rents a session, runs its
    /// commands and gives it back; a new connection opens only when every open one is busy, so a run with one
    /// worker keeps one connection. Every command names messages by UID, so any session can serve any step.
    /// </summary>
    internal sealed class ImapSessionPool : IDisposable
    {
        private readonly NetworkCredential _credential;
        private readonly ConcurrentBag<ImapSession> _idle = new ConcurrentBag<ImapSession>();
        private readonly List<ImapSession> _all = new List<ImapSession>();

        public ImapSessionPool(ImapEndpoint endpoint, NetworkCredential credential)
        {
            Endpoint = endpoint;
            _credential = credential;
        }

        public ImapEndpoint Endpoint { get; }

        /// <summary>Runs <paramref name="step"/> on a session no other caller uses meanwhile.</summary>
        public async Task<T> UseAsync<T>(Func<ImapSession, Task<T>> step)
        {
            if (!_idle.TryTake(out var session))
            {
                session = new ImapSession(Endpoint, _credential);
                lock (_all) _all.Add(session);
            }
            try
            {
                return await step(session).ConfigureAwait(false);
            }
            finally
            {
                _idle.Add(session);
            }
        }

        /// <inheritdoc cref="UseAsync{T}"/>
        public Task UseAsync(Func<ImapSession, Task> step) =>
            UseAsync(async session => { await step(session).ConfigureAwait(false); return true; });

        public void Dispose()
        {
            lock (_all)
            {
                foreach (var session in _all) session.Dispose();
                _all.Clear();
            }
        }
    }
}
