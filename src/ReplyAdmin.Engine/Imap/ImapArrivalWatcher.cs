using System;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using MailKit;
using MailKit.Net.Imap;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Imap
{
    /// <summary>
    /// Waits for new messages in the inbound IMAP folder with IDLE (RFC 2177), so a watching run processes replies
    /// as they arrive instead of polling. Uses its own connection, separate from the processing run's.
    /// </summary>
    public static class ImapArrivalWatcher
    {
        // Servers drop an IDLE after 30 minutes at the latest (RFC 2177); renew well before.
        private static readonly TimeSpan IdleRenewal = TimeSpan.FromMinutes(9);

        /// <summary>Returns when a message arrives (true) or <paramref name="maxWait"/> has passed (false).</summary>
        /// <exception cref="ImapConnectionException">The server cannot be reached or refuses the login.</exception>
        public static async Task<bool> WaitForArrivalAsync(InboundSourceSettings settings, NetworkCredential credential, TimeSpan maxWait,
            TimeSpan timeout, CancellationToken cancellationToken)
        {
            var endpoint = ImapEndpoint.From(settings);
            endpoint.Timeout = timeout;
            using (var client = await ImapConnector.ConnectAsync(endpoint, credential, cancellationToken).ConfigureAwait(false))
            {
                var folder = await ImapConnector.GetFolderAsync(client, settings.Folder, cancellationToken).ConfigureAwait(false);
                await folder.OpenAsync(FolderAccess.ReadOnly, cancellationToken).ConfigureAwait(false);
                if (folder.Count > 0)
                    return true;
                var arrived = false;
                var deadline = DateTime.UtcNow + maxWait;
                using (var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    folder.CountChanged += (sender, e) =>
                    {
                        if (((IMailFolder)sender).Count > 0)
                        {
                            arrived = true;
                            done.Cancel();
                        }
                    };
                    while (!arrived && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
                    {
                        var slice = TimeSpan.FromTicks(Math.Min(IdleRenewal.Ticks, (deadline - DateTime.UtcNow).Ticks));
                        if (slice <= TimeSpan.Zero) break;
                        using (var sliceEnd = new CancellationTokenSource(slice))
                        using (var idleDone = CancellationTokenSource.CreateLinkedTokenSource(done.Token, sliceEnd.Token))
                        {
                            if ((client.Capabilities & ImapCapabilities.Idle) != 0)
                                await client.IdleAsync(idleDone.Token, cancellationToken).ConfigureAwait(false);
                            else
                            {
                                // No IDLE: poll with NOOP once a minute.
                                try { await Task.Delay(TimeSpan.FromTicks(Math.Min(slice.Ticks, TimeSpan.FromMinutes(1).Ticks)), idleDone.Token).ConfigureAwait(false); }
                                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { }
                                await client.NoOpAsync(cancellationToken).ConfigureAwait(false);
                            }
                        }
                    }
                }
                cancellationToken.ThrowIfCancellationRequested();
                if (client.IsConnected)
                    await client.DisconnectAsync(true, cancellationToken).ConfigureAwait(false);
                return arrived;
            }
        }
    }
}
