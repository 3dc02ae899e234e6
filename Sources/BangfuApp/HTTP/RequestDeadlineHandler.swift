import NIOCore
import NIOHTTPTypes

/// Closes connections whose client is too slow (issue 11, slow-loris): the head of each request
/// must be complete within `headTimeout` of the connection opening or of the previous response,
/// and its body within `bodyTimeout` of its head. Oversized heads are refused by the HTTP decoder's
/// limits (`serverBuilder`); oversized bodies by each route's own limit while streaming.
///
/// One instance per connection, used only on its event loop (NIO calls a handler on its channel's
/// loop; the timers are scheduled there with `assumeIsolated`).
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let headTimeout: TimeAmount
    let bodyTimeout: TimeAmount
    private var timer: Scheduled<Void>?
    /// Requests whose head has arrived and whose response has not ended (pipelining).
    private var pending = 0

    init(headTimeout: TimeAmount, bodyTimeout: TimeAmount) {
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, headTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, headTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            pending += 1
            arm(context, bodyTimeout)
        case .body where pending == 0:
            break  // the rest of an answered request's body: its own deadline still runs
        case .end:
            // Answered already (a refusal before the body was read): the next head is now due.
            if pending == 0 { arm(context, headTimeout) } else { disarm() }
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            pending = max(0, pending - 1)
            if pending == 0 { arm(context, headTimeout) }
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount) {
        disarm()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            context.close(promise: nil)
        }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}
