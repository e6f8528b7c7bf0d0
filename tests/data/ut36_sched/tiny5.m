function mpc = tiny5
mpc.version = '2';
mpc.baseMVA = 10;
%% bus_i type Pd Qd Gs Bs area Vm Va baseKV zone Vmax Vmin
mpc.bus = [
1 3 0    0    0 0 1 1 0 12.66 1 1.1 0.9;
2 1 0.3  0.1  0 0 1 1 0 12.66 1 1.1 0.9;
3 1 0.4  0.12 0 0 1 1 0 12.66 1 1.1 0.9;
4 1 0.35 0.1  0 0 1 1 0 12.66 1 1.1 0.9;
5 1 0.3  0.1  0 0 1 1 0 12.66 1 1.1 0.9;
];
%% gen
mpc.gen = [
1 0 0 10 -10 1.0 10 1 10 0 0 0 0 0 0 0 0 0 0 0 0;
];
%% branch: fbus tbus r x b rateA rateB rateC ratio angle status angmin angmax  (r,x in p.u. on 10 MVA)
mpc.branch = [
1 2 0.056154 0.037437 0 0 0 0 0 0 1 -360 360;
2 3 0.149745 0.112308 0 0 0 0 0 0 1 -360 360;
3 4 0.112308 0.093591 0 0 0 0 0 0 1 -360 360;
4 5 0.168462 0.131025 0 0 0 0 0 0 1 -360 360;
2 5 0.131025 0.093591 0 0 0 0 0 0 1 -360 360;
];
